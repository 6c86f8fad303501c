"""Generated release Dockerfiles for the benchmark: realistic shapes, no two alike."""
from __future__ import annotations

import random
from pathlib import Path

IMAGES = [
    "nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04",
    "nvidia/cuda:11.8.0-cudnn8-devel-ubuntu20.04",
    "nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04",
    "nvidia/cuda:12.3.2-cudnn8-devel-ubuntu22.04",
]
APT = ["git", "curl", "ca-certificates", "build-essential", "python3-dev", "libgl1", "wget", "vim"]
EXTRAS = ["matplotlib", "arviz", "pandas", "scikit-learn", "optax", "flax", "tqdm", "seaborn"]


def dockerfile(n: int, rng: random.Random, numpyro: str, jax: str, jaxlib: str) -> str:
    image = rng.choice(IMAGES)
    tag = "cuda12.cudnn89" if ":12." in image else "cuda11.cudnn86"
    apt = " ".join(rng.sample(APT, rng.randint(2, 6)))
    extras = " ".join(f"{p}=={rng.randint(0, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
                      for p in rng.sample(EXTRAS, rng.randint(1, 4)))
    form = n % 3
    lines = [f"# Image {n}: NumPyro on {image}", f"# generated for the benchmark (seed {n})"]
    if form == 0:  # versions in ARG defaults near the top
        lines += [f"ARG BASE={image}", "FROM ${BASE}",
                  f"ARG JAX_VERSION={jax}", f"ARG JAXLIB_VERSION={jaxlib}", f"ARG JAXLIB_BUILD={tag}"]
    elif form == 1:  # an ENV block
        lines += [f"FROM {image} AS base", "ENV DEBIAN_FRONTEND=noninteractive \\",
                  f"    JAX_VERSION={jax} \\", f"    JAXLIB_VERSION={jaxlib}"]
    else:
        lines += [f"FROM {image}"]
    lines += ["RUN apt-get update \\", f"    && apt-get install -y --no-install-recommends {apt} \\",
              "    && rm -rf /var/lib/apt/lists/*"]
    links = "-f https://example.invalid/jax-releases/jax_cuda_releases.html"
    if form == 0:
        lines += ["RUN pip install --no-cache-dir \\", "    # the release and its jax",
                  f'    "numpyro=={numpyro}" "jax==${{JAX_VERSION}}" \\',
                  f"    jaxlib==${{JAXLIB_VERSION}}+${{JAXLIB_BUILD}} {links}"]
    elif form == 1:
        lines += ['RUN python3 -m pip install "jax[cuda]==${JAX_VERSION}" \\',
                  f"    jaxlib==${{JAXLIB_VERSION}}+{tag} {links} && \\",
                  f"    pip3 install numpyro=={numpyro}"]
    else:
        lines += [f"RUN pip3 install --upgrade jax=={jax} jaxlib=={jaxlib}+{tag} {links}",
                  f"RUN pip3 install numpyro=={numpyro}"]
    lines += [f"RUN pip install {extras}", f"WORKDIR /work{n}", 'CMD ["python3"]']
    return "\n".join(lines) + "\n"


def write(folder: Path, count: int, numpyro: str = "0.12.0", jax: str = "0.4.13",
          jaxlib: str = "0.4.13") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(count)
    paths = []
    for n in range(count):
        path = folder / f"image{n:05d}.Dockerfile"
        path.write_text(dockerfile(n, rng, numpyro, jax, jaxlib))
        paths.append(path)
    return paths


def many_pins(pins: int, numpyro: str = "0.12.0", jax: str = "0.4.13", jaxlib: str = "0.4.13") -> str:
    """One Dockerfile with `pins` pins (three per RUN, one through an ARG), about 80 bytes each:
    the shape of a generated matrix of images squeezed into one file."""
    image = IMAGES[2]
    lines = [f"# {pins} pins in one file", f"FROM {image}"]
    links = "-f https://example.invalid/jax-releases/jax_cuda_releases.html"
    for n in range((pins + 2) // 3):
        lines += [f"ARG JAX_VERSION_{n}={jax}",
                  f'RUN pip install --no-cache-dir "jax[cuda]==${{JAX_VERSION_{n}}}" \\',
                  f"    jaxlib=={jaxlib}+cuda12.cudnn89 {links} \\",
                  f"    numpyro=={numpyro} optax==0.1.7"]
    return "\n".join(lines) + "\n"
