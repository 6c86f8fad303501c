import gc

gc.disable()  # before the imports too: see cli.console

from release_hook.cli import console  # noqa: E402

console()
