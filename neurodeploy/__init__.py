"""neurodeploy: train spiking networks with EventProp and deploy them to neuromorphic hardware.

``__version__`` is the installed package's version (its metadata), "unknown" when neurodeploy runs
from a source tree that is not installed.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("neurodeploy")
except PackageNotFoundError:  # pragma: no cover - only outside an installation
    __version__ = "unknown"

del PackageNotFoundError, version
