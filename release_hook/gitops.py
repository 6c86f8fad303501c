"""Git at the edge: refuse unsafe states, commit exactly the synced files, read files at a commit."""
from __future__ import annotations

import datetime
import os
from typing import TYPE_CHECKING, Collection, Mapping, Sequence

from release_hook.errors import UserError
from release_hook.files import Tree
from release_hook.records import NamedTuple

if TYPE_CHECKING:
    import subprocess

    import git

    from release_hook.plan import FilePlan
    from release_hook.request import Request


class Ran(NamedTuple):
    code: int
    out: bytes
    err: bytes

    @property
    def text(self) -> str:  # paths as the file system names them, as os.fsdecode reads them
        return os.fsdecode(self.out)


def _run(args: Sequence[str], cwd: str, env: Mapping[str, str] | None = None) -> Ran:
    """Run git in `cwd` and wait: its status and both outputs.

    The pre-commit hook runs inside every bump's commit and calls git twice or three times:
    importing subprocess (with threading, selectors, signal and locale) cost it 4 ms, so where
    the platform has posix_spawn the process is started with it and its two pipes polled."""
    if not hasattr(os, "posix_spawnp"):
        import subprocess

        done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True)
        return Ran(done.returncode, done.stdout, done.stderr)
    import select

    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:  # `-C`: posix_spawn cannot change the child's folder
        pid = os.posix_spawnp("git", ["git", "-C", cwd, *args], os.environ if env is None else env,
                              file_actions=[(os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_w, 2)])
    except BaseException:
        for fd in (out_r, out_w, err_r, err_w):
            os.close(fd)
        raise
    os.close(out_w)
    os.close(err_w)
    read: dict[int, list[bytes]] = {out_r: [], err_r: []}
    try:
        poll = select.poll()
        for fd in read:
            poll.register(fd, select.POLLIN)
        open_fds = len(read)
        while open_fds:
            for fd, _ in poll.poll():
                chunk = os.read(fd, 65536)
                if chunk:
                    read[fd].append(chunk)
                else:
                    poll.unregister(fd)
                    open_fds -= 1
        _, status = os.waitpid(pid, 0)
    except BaseException:  # Ctrl-C: git goes too, and is waited for
        import signal

        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(out_r)
        os.close(err_r)
    return Ran(os.waitstatus_to_exitcode(status), b"".join(read[out_r]), b"".join(read[err_r]))


# The pre-commit hook runs inside every bump's commit: importing GitPython there costs about
# 0.1 s, so the two things it does (check for edits, stage files) call git directly.

def _git(top: str, *args: str) -> str:
    result = _run(args, top)
    if result.code not in (0, 1):  # check-ignore answers 1 when nothing is ignored
        detail = os.fsdecode(result.err).strip().splitlines()
        raise UserError(f"git {args[0]} failed: {detail[-1] if detail else result.code}")
    return result.text


def toplevel(path: str) -> str:
    # Git runs its hooks in the top-level: a folder that holds `.git` (a folder, or a worktree's
    # or a submodule's file) is its work tree's top, unless GIT_DIR or GIT_WORK_TREE say
    # otherwise (a git process less in each bump's hook, which asks twice).
    if not (os.environ.get("GIT_DIR") or os.environ.get("GIT_WORK_TREE")) and \
            os.path.lexists(os.path.join(path, ".git")):
        return os.path.realpath(path)  # as git gives it: absolute, symbolic links resolved
    result = _run(["rev-parse", "--show-toplevel"], path)
    if result.code != 0:
        raise UserError("not a git repository (use --no-commit to write without committing)")
    return result.text.strip()


def _relative(top: str, paths: Sequence[str]) -> list[str]:
    return [os.path.relpath(os.path.realpath(p), os.path.realpath(top)) for p in paths]


def refuse_dirty_paths(top: str, paths: Sequence[str]) -> frozenset[str]:
    """A Dockerfile with edits of the user's own is not rewritten: they would be mixed in.
    Returns those git ignores, for `stage_paths`: one git status answers both (a process less
    in each bump's hook)."""
    rel = _relative(top, paths)
    entries = _git(top, "status", "--porcelain", "-z", "--ignored", "--untracked-files=all", "--", *rel)
    ignored = set()
    for entry in entries.split("\0"):
        if entry.startswith("!! "):
            ignored.add(entry[3:])
        elif entry:
            raise UserError("has uncommitted edits; commit or stash them, or pass --allow-dirty "
                            "(nothing written)", entry[3:])
    return frozenset(ignored)


def stage_paths(top: str, paths: Sequence[str], ignored: Collection[str] | None = None) -> None:
    """`git add` the paths, but not those git ignores (`ignored`, when already known)."""
    rel = _relative(top, paths)
    if ignored is None:
        ignored = set(_git(top, "check-ignore", "--", *rel).splitlines())
    wanted = [r for r in rel if r not in ignored]
    if wanted:
        _git(top, "add", "--", *wanted)


def open_repo(path: str) -> git.Repo:
    import git

    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UserError("not a git repository (use --no-commit to write without committing)") from None


def _in_progress(repo: git.Repo) -> str | None:
    gitdir = repo.git_dir
    for name, what in (("MERGE_HEAD", "a merge"), ("rebase-merge", "a rebase"),
                       ("rebase-apply", "a rebase"), ("CHERRY_PICK_HEAD", "a cherry-pick"),
                       ("REVERT_HEAD", "a revert")):
        if os.path.exists(os.path.join(gitdir, name)):
            return what
    return None


def open_for_sync(root: str, paths: Sequence[str], request: Request) -> git.Repo:
    """The repository to commit in, once every reason to refuse has been ruled out."""
    import git

    repo = open_repo(root)
    if not request.allow_dirty:
        refuse_dirty_paths(str(repo.working_tree_dir or root), paths)
    busy = _in_progress(repo)
    if busy:
        raise UserError(f"{busy} is in progress; finish it first (nothing written)")
    if repo.head.is_detached and not request.allow_detached:
        raise UserError("HEAD is detached; check out a branch or pass --allow-detached (nothing written)")
    try:
        repo.git.var("GIT_COMMITTER_IDENT")
        repo.git.var("GIT_AUTHOR_IDENT")
    except git.GitCommandError:
        raise UserError("no git identity: set user.name and user.email (nothing written)") from None
    return repo




def commit_message(package: str, version: str, plans: Sequence[FilePlan]) -> str:
    """`Sync Dockerfiles with pkg V (jax A, jaxlib B)` when every file moved alike; else that
    subject without the details, and one body line per file naming its own moves."""
    per_file: dict[str, list[str]] = {}
    for p in plans:
        moved: list[str] = []
        for c in p.changes:
            item = f"{c.pin.package} {c.new_version}"
            if c.pin.package != package and item not in moved:
                moved.append(item)
        per_file[p.path] = sorted(moved)
    subject = f"Sync Dockerfiles with {package} {version}"
    kinds = {tuple(m) for m in per_file.values()}
    if len(kinds) <= 1:
        detail = ", ".join(next(iter(kinds), ()))
        return subject + (f" ({detail})" if detail else "")
    body = [f"{path}: {', '.join(m) if m else f'{package} {version} only'}"
            for path, m in sorted(per_file.items())]
    return subject + "\n\n" + "\n".join(body)


def commit_files(repo: git.Repo, paths: Sequence[str], message: str) -> str:
    """Commit these files as they are in the work tree, and nothing else.

    `git commit --only` leaves whatever else is staged staged, and other edits untouched.
    Files git does not track (ignored ones, say) are written but not committed.
    """
    rel = _relative(str(repo.working_tree_dir), paths)
    tracked = set(repo.git.ls_files("--", *rel).splitlines())
    kept = [r for r in rel if r in tracked]
    if not kept:
        return ""
    import git

    try:
        repo.git.commit("--only", "-m", message, "--", *kept)
    except git.GitCommandError as e:  # a lock another git holds, a hook that refused...
        raise UserError(f"git commit failed: {_reason(str(e.stderr or ''), e.status)}") from None
    return repo.head.commit.hexsha


def _reason(stderr: str, status: object) -> str:
    """git's own words for a failure, as GitPython quotes them (`stderr: 'fatal: ...'`): its
    `fatal:` or `error:` line, else its last line, else the exit status."""
    lines = [line.strip().removeprefix("stderr:").strip().strip("'").strip() for line in stderr.splitlines()]
    lines = [line for line in lines if line]
    said = next((line for line in lines if line.startswith(("fatal:", "error:"))), lines[-1] if lines else "")
    return said or f"exit status {status}"


class Objects:
    """A repository's commits and files as git stores them, read by one `git cat-file --batch`
    process. The pre-push check reads nothing else, and importing GitPython alone costs it
    about 80 ms on every push; a `with` block ends the process."""

    def __init__(self, top: str, git_dir: str) -> None:
        self.top = top  # the work tree, or a bare repository's folder
        # every read names the repository: a hook may run with a relative GIT_DIR
        self._env = {**os.environ, "GIT_DIR": git_dir}
        self._batch: subprocess.Popen[bytes] | None = None

    @staticmethod
    def open(path: str) -> Objects:
        where = _run(["rev-parse", "--is-bare-repository", "--absolute-git-dir"], path)
        if where.code != 0:
            raise UserError("not a git repository (use --no-commit to write without committing)")
        bare, git_dir = where.text.splitlines()[:2]
        if bare == "true":
            return Objects(git_dir, git_dir)
        work = _run(["rev-parse", "--show-toplevel"], path)
        if work.code == 0:
            return Objects(work.text.strip(), git_dir)
        # inside the git folder itself (`git -C .git push` runs the hook there): no work tree
        return Objects(os.path.dirname(git_dir) if os.path.basename(git_dir) == ".git" else git_dir, git_dir)

    def __enter__(self) -> Objects:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._batch is not None:
            try:
                self._batch.stdin.close()  # type: ignore[union-attr]
            except OSError:
                pass  # it stopped already
            self._batch.wait()
            self._batch.stdout.close()  # type: ignore[union-attr]
            self._batch = None

    def _read(self, name: str) -> tuple[str, str, bytes] | None:
        """(object id, type, content) of what `name` names, or None when it names nothing."""
        if "\n" in name or name.endswith("\r"):  # the batch reads a name a line, and drops
            # a CR before its LF: ask for such a path's id alone
            found = _run(["rev-parse", "--verify", "--quiet", name], self.top, self._env)
            if found.code != 0:
                return None
            name = found.text.strip()
        if self._batch is None:
            import subprocess

            # git's own complaints (a tag of a blob is not a commit) become our one-line errors
            self._batch = subprocess.Popen(["git", "cat-file", "--batch"], cwd=self.top, env=self._env,
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           stderr=subprocess.DEVNULL)
        out, into = self._batch.stdout, self._batch.stdin
        assert out is not None and into is not None
        try:
            into.write(os.fsencode(name) + b"\n")
            into.flush()
            line = out.readline()
        except OSError:
            line = b""
        if not line:
            raise UserError(f"git cat-file stopped while reading {name}")
        header = line.split()
        if len(header) != 3 or not header[2].isdigit():  # "NAME missing", "NAME ambiguous"
            return None
        oid, kind, size = header
        data = out.read(int(size))
        out.read(1)  # the newline after the content
        return oid.decode(), kind.decode(), data

    def commit_of(self, rev: str) -> str | None:
        """The commit `rev` names (an annotated tag names a tag object); None when it names a
        tree, a blob or nothing."""
        found = self._read(f"{rev}^{{commit}}")
        return found[0] if found else None

    def peel(self, rev: str) -> str:
        found = self.commit_of(rev)
        if found is None:
            raise UserError(f"{rev} names no commit")
        return found

    def head(self) -> str | None:
        """The commit HEAD names, or None on an unborn branch."""
        return self.commit_of("HEAD")

    def kind(self, sha: str) -> str | None:
        """commit, tag, tree or blob; None when the object is not there."""
        found = self._read(sha)
        return found[1] if found else None

    def blob(self, sha: str, path: str) -> bytes | None:
        """The file at `path` in the commit, or None when it has none there."""
        if any(part in ("", ".", "..") for part in path.split("/")):
            return None  # no path in a tree: git would read `./x` and `../x` from the cwd, or stop
        found = self._read(f"{sha}^{{commit}}:{path}")
        return found[2] if found and found[1] == "blob" else None

    def tree(self, sha: str) -> Tree:
        """The commit's files, symlinks (with the path each one stores) and folders. A link's
        blob is its target's name, not a Dockerfile: files.Tree.follow says what it names."""
        listed = _run(["ls-tree", "-r", "-t", "-z", "--full-tree", f"{sha}^{{commit}}"], self.top, self._env)
        if listed.code != 0:
            raise UserError(f"{sha} names no commit")
        files: set[str] = set()
        links: dict[str, str] = {}
        folders: set[str] = set()
        for entry in listed.out.split(b"\0"):
            if not entry:
                continue
            meta, _, raw = entry.partition(b"\t")
            mode, kind, oid = meta.split()
            path = os.fsdecode(raw)
            if kind == b"tree":
                folders.add(path)
            elif kind == b"blob" and int(mode, 8) == SYMLINK_MODE:
                target = self._read(oid.decode())
                links[path] = os.fsdecode(target[2]) if target else ""
            elif kind == b"blob":
                files.add(path)
        return Tree(frozenset(files), links, frozenset(folders))

    def committer_date(self, sha: str) -> datetime.datetime:
        """When the commit was made, as git records it, in UTC."""
        found = self._read(f"{sha}^{{commit}}")
        if found is None:
            raise UserError(f"{sha} names no commit")
        for line in found[2].split(b"\n"):
            if line.startswith(b"committer "):
                stamp = line.rsplit(b">", 1)[-1].split()
                if stamp and stamp[0].isdigit():
                    return datetime.datetime.fromtimestamp(int(stamp[0]), datetime.timezone.utc)
            if not line:
                break  # the message begins
        raise UserError(f"commit {sha} has no committer date")

    def is_ancestor(self, older: str, newer: str) -> bool:
        """Whether `older` is `newer` or one of its ancestors."""
        return _run(["merge-base", "--is-ancestor", older, newer], self.top, self._env).code == 0

    def branch_tips(self) -> list[str]:
        """The commits at the tips of local and remote-tracking branches."""
        listed = _run(["for-each-ref", "--format=%(objectname)", "refs/heads", "refs/remotes"], self.top, self._env)
        if listed.code != 0:
            raise UserError(f"git for-each-ref failed: {os.fsdecode(listed.err).strip() or listed.code}")
        return listed.text.split()


SYMLINK_MODE = 0o120000


def resolve_date(top: str, rev: str) -> datetime.datetime | None:
    """The committer date of a commit-ish, or None when `rev` names no commit."""
    result = _run(["log", "-1", "--format=%cI", f"{rev}^{{commit}}", "--"], top)
    if result.code != 0 or not result.text.strip():
        return None
    return datetime.datetime.fromisoformat(result.text.strip()).astimezone(datetime.timezone.utc)


def tracked(top: str, paths: Sequence[str]) -> list[str]:
    """Which of these paths git tracks (relative to `top`)."""
    rel = [r for r in _relative(top, paths) if not r.startswith("..")]
    if not rel:
        return []
    result = _run(["ls-files", "--", *rel], top)
    return result.text.splitlines() if result.code == 0 else []


def staged_paths(top: str) -> list[str]:
    return _git(top, "diff", "--cached", "--name-only").splitlines()


def diff_lines(top: str, paths: Sequence[str], staged: bool) -> list[str]:
    """The changes to `paths` without context, staged or in the work tree."""
    return _git(top, "diff", *(["--cached"] if staged else []), "--no-color", "-U0", "--", *paths).splitlines()


def edited_paths(top: str) -> list[str]:
    """Tracked files whose work-tree copy differs from the index."""
    return _git(top, "diff", "--name-only").splitlines()
