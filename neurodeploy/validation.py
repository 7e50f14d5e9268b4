"""One way to validate: collect every problem, one line each with its path, then raise once.

Configs, networks, profiles and data options all report problems as lines
``"<path>: <message>"`` (or a message that already starts with its path, such as
``"populations/h/size must be ..."``) and raise one exception listing every line; the command line
prints each line as ``error: <line>``. :class:`Problems` is the collector; each fact checked in more
than one place has one checker here:

- the input channels of samples against a network's input populations (:func:`require_channels`);
- a model's profile against the one target a runner is written for (:func:`require_profile`).

Unknown profile or target names have one lookup, :func:`neurodeploy.targets.get_target`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from neurodeploy.errors import ConfigError, NetworkError, NeurodeployError

if TYPE_CHECKING:
    from neurodeploy.network import Network
    from neurodeploy.spikes import SpikeData

__all__ = [
    "Problems",
    "channel_problem",
    "not_runnable",
    "require_channels",
    "require_profile",
]


class Problems:
    """Problems found so far, one line each, in the order found.

    ``add("model.hidden", "must be ...")`` records ``"model.hidden: must be ..."``;
    :meth:`raise_if_any` raises one exception whose message holds every line.
    """

    def __init__(self, lines: Iterable[str] = ()) -> None:
        self._lines: list[str] = []
        self.extend(lines)

    def add(self, path: str, message: str) -> None:
        """Record ``"<path>: <message>"`` (just ``message`` when ``path`` is empty)."""
        self._lines.append(f"{path}: {message}" if path else message)

    def extend(self, lines: Iterable[str | None], path: str = "") -> None:
        """Record each line (None skipped), prefixed with ``"<path>: "`` when ``path`` is given."""
        for line in lines:
            if line:
                self.add(path, line)

    def lines(self) -> list[str]:
        return list(self._lines)

    def __bool__(self) -> bool:
        return bool(self._lines)

    def __len__(self) -> int:
        return len(self._lines)

    def __iter__(self) -> Iterator[str]:
        return iter(self._lines)

    def raise_if_any(self, error: type[NeurodeployError] = ConfigError, prefix: str = "") -> None:
        """Raise ``error`` listing every line (each prefixed with ``"<prefix>: "``), if any."""
        if self._lines:
            head = f"{prefix}: " if prefix else ""
            raise error("\n".join(f"{head}{line}" for line in self._lines))


def channel_problem(network: Network, spikes: SpikeData) -> str | None:
    """The one line saying ``spikes`` do not fit ``network``'s input populations, or None.

    The channels of a sample are the input populations' neurons concatenated in network order.
    """
    inputs = network.inputs
    n_inputs = sum(p.size for p in inputs)
    if spikes.n_channels == n_inputs:
        return None
    names = ", ".join(p.name for p in inputs) or "none"
    return (
        f"inputs have {spikes.n_channels} channels but the network's input populations "
        f"({names}) have {n_inputs} neurons"
    )


def require_channels(network: Network, spikes: SpikeData, where: str = "") -> None:
    """NetworkError (one line, prefixed with ``where``) unless ``spikes`` fit ``network``."""
    Problems([channel_problem(network, spikes)]).raise_if_any(NetworkError, where)


def not_runnable(runner: str, runs: str, network: Network, target: str = "TARGET") -> str:
    """The one line saying ``runner`` (which runs ``runs``, e.g. "loihi2 hardware models")
    cannot run ``network``; a float model gets the command that quantizes it for ``target``."""
    kind = f"a {network.profile} hardware model" if network.profile else "a float model"
    hint = ""
    if network.profile is None:
        hint = (
            "; quantize this float model first "
            f"(neurodeploy quantize MODEL --target {target} --out HW.h5)"
        )
    return f"{runner} runs {runs}, this is {kind}{hint}"


def require_profile(network: Network, profile: str, runner: str) -> None:
    """ConfigError unless ``network`` is a hardware model of ``profile``.

    For code written for one target (its emulator, an exporter); registered backends declare what
    they run and are checked with :func:`neurodeploy.backend.check_accepts`, in the same words.
    """
    if network.profile != profile:
        raise ConfigError(not_runnable(runner, f"{profile} hardware models", network, profile))
