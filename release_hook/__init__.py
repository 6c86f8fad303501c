"""Keep the jax, jaxlib and released-package pins of Dockerfiles in step with each release."""
__version__ = "0.1.0"
