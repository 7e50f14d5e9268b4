"""Exception types shared by every stage.

Each error is also the matching built-in, so callers can catch either. Messages are one line per
problem: where, what is allowed, what was found.
"""

from __future__ import annotations

__all__ = [
    "BackendUnavailableError",
    "ConfigError",
    "ModelFileError",
    "NetworkError",
    "NeurodeployError",
    "ProfileLimitError",
]


class NeurodeployError(Exception):
    """Base of every error neurodeploy raises for bad input or an unavailable toolchain."""


class NetworkError(NeurodeployError, ValueError):
    """A network description breaks a structural rule (shapes, names, finite values)."""


class ModelFileError(NeurodeployError, ValueError):
    """A model file cannot be read: not HDF5, truncated, unknown version, bad field."""


class ConfigError(NeurodeployError, ValueError):
    """A configuration file or a command-line option is invalid."""


class ProfileLimitError(NeurodeployError, ValueError):
    """A hardware model breaks one or more limits of its hardware profile."""


class BackendUnavailableError(NeurodeployError, ImportError):
    """A backend's toolchain is not importable here; the message says what to install."""
