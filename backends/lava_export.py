"""Export a ``loihi2`` hardware model for Lava: a lava-dl netx HDF5, a model copy and a manifest.

Files written into ``out_dir``:

``model.h5``
    The hardware model itself (:func:`neurodeploy.files.write_network`); the Lava backend builds
    its processes from it exactly (:mod:`neurodeploy.backends.lava`).
``netx.h5``
    A lava-dl ``netx.hdf5.Network`` description, written only when netx reproduces the model bit
    for bit (:attr:`NetxPlan.exact`): the topology is a chain (one input population, then
    populations each fed by the previous one, optionally with one recurrent projection) and every
    check below passes. Otherwise no file is written, a one-line warning names the first layer
    and reason, and the manifest lists them all; :func:`export_netx` (``export --backend netx``)
    refuses with that line instead. The Lava-process export (``model.h5``) is always written. Layer ``i`` (``/layer/{i}``) is the ``i``-th non-input population: ``type``
    ``dense`` (or ``dense_rec``), ``shape [n]``, ``inFeatures``, ``outFeatures``, ``weight[out, in]``
    (``weight_rec[out, out]``), ``bias[n]``, optional ``delay`` and
    ``neuron/{type CUBA, iDecay = du + 1, vDecay = dv, vThMant = vth, refDelay 1, gradedSpike 0}``.
    There is no ``input`` layer: spikes go straight into ``Network.inp`` (the first synapse), as in
    lava-dl's own dense networks. Root attributes ``neurodeploy_exact`` (always true) and
    ``neurodeploy_not_expressible`` (an empty JSON list) record the verdict.
``manifest.json``
    Format, versions, file names, the Lava construct of every element, and the netx verdict.

What netx does with the file (lava-dl ``netx/hdf5.py``, ``netx/utils.py``, ``netx/blocks/process.py``)
and hence what is checked here, per layer:

- weights: netx calls its ``optimize_weight_bits`` on the file's integers (scale up by ``sb`` bits,
  ``weight_exp = -sb``, fresh ``num_weight_bits``; for ``dense_rec`` jointly on ``[weight,
  weight_rec]``) and does **not** pass the sign mode, so Lava infers it per synapse. The file holds
  each synapse's exact contribution to ``a_in`` (our Lava preprocessing of the weight, then
  ``<< weight_exp``; for ``weight_exp < 0`` the floor on the *sum* must equal the sum of floors,
  i.e. the low-bit remainders of each row must add up to less than ``2**-weight_exp``), and the
  export replays netx + Lava on it to check it comes back unchanged.
- bias: netx fixes ``bias_exp = 6``, so ``bias_mant << bias_exp`` must be a multiple of 64.
- delays: netx takes one delay per output (row), one per input (column), a scalar or a 2-D
  ``[out, in]`` matrix (passed to ``DelayDense`` unchanged; lava-dl's README documents only the
  1-D forms, the vendor tests run the 2-D one), clamps to 62, and reads a 1-D delay of length
  ``outFeatures`` as per output first. The file holds one delay per output where that is exact,
  else the 2-D matrix. Synapses whose effective weight is zero are ignored.
- recurrence: netx's delayed ``RecurrentDense`` gives the recurrent synapse the feed-forward delay
  matrix (a ``ValueError`` in Lava unless the layer has as many inputs as neurons) and no
  ``weight_exp``, so a recurrent layer must be delay-free. Both of its synapses get the layer's
  *input* message bits (lava-dl #372); the file marks every spike binary (``gradedSpike 0``, no
  ``messageBits``), so both are 0 and the recurrent synapse is unary, as it must be.
"""

from __future__ import annotations

import itertools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from numpy.typing import NDArray

from neurodeploy.errors import ConfigError
from neurodeploy.files import atomic_path, write_network
from neurodeploy.network import Network, Population, Projection
from neurodeploy.profiles import check_network
from neurodeploy.targets.loihi2.arithmetic import (
    EXCITATORY,
    INHIBITORY,
    MIXED,
    effective_weights,
)
from neurodeploy.validation import require_profile

__all__ = ["MANIFEST_FORMAT", "NetxPlan", "export_lava", "export_netx", "netx_refusal", "plan_netx"]

log = logging.getLogger(__name__)

MANIFEST_FORMAT = "neurodeploy-lava-export"
MANIFEST_VERSION = 1
_NETX_MAX_DELAY = 62


@dataclass
class NetxLayer:
    """One netx layer: datasets to write."""

    type: str
    size: int
    in_features: int
    weight: NDArray[np.int64]
    bias: NDArray[np.int64]
    neuron: dict[str, int]
    weight_rec: NDArray[np.int64] | None = None
    delay: NDArray[np.int64] | None = None


@dataclass
class NetxPlan:
    """What a netx file of a network holds and what it cannot express.

    Attributes
    ----------
    layers : list of NetxLayer
        Empty when the topology is not a chain (then no file is written).
    reasons : list of str
        One line per thing netx would do differently from the hardware model.
    """

    layers: list[NetxLayer] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return bool(self.layers) and not self.reasons


def netx_refusal(plan: NetxPlan) -> str:
    """One line: why no netx file is written for ``plan`` (empty when it is exact)."""
    if plan.exact:
        return ""
    more = (
        f" (and {len(plan.reasons) - 1} more, listed in manifest.json)"
        if len(plan.reasons) > 1
        else ""
    )
    first = plan.reasons[0] if plan.reasons else "the model has no layer netx can hold"
    return (
        f"no netx file: lava-dl's netx loader would run this model differently: {first}{more}; "
        "the Lava-process export (model.h5, `export --backend lava`) runs it exactly"
    )


def export_lava(network: Network, out_dir: Path | str) -> list[Path]:
    """Write ``model.h5``, ``netx.h5`` (chains only) and ``manifest.json`` into ``out_dir``.

    Parameters
    ----------
    network : Network
        Hardware model with profile ``loihi2``.
    out_dir : path
        Created if missing; existing files of the same names are replaced atomically.

    Returns
    -------
    list of Path
        The files written, in the order above.

    Raises
    ------
    ConfigError
        If ``network`` is not a ``loihi2`` hardware model.
    NetworkError, ProfileLimitError
        If it is not a valid one.
    """
    require_profile(network, "loihi2", "Lava export")
    network.validate()
    check_network(network)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [write_network(network, out_dir / "model.h5")]
    plan = plan_netx(network)
    stale = out_dir / "netx.h5"
    if plan.exact:
        written.append(_write_netx(plan, stale))
    else:
        stale.unlink(missing_ok=True)  # an earlier export's file would no longer match model.h5
        log.warning("%s", netx_refusal(plan))
    manifest = _manifest(network, plan, [p.name for p in written])
    path = out_dir / "manifest.json"
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    written.append(path)
    return written


def export_netx(network: Network, out_dir: Path | str) -> list[Path]:
    """Write ``netx.h5`` alone, or refuse.

    Raises
    ------
    ConfigError
        In one line naming the first layer and reason, when lava-dl's netx loader would run the
        model differently (:func:`plan_netx`); the Lava-process export still runs it exactly.
    """
    require_profile(network, "loihi2", "netx export")
    network.validate()
    check_network(network)
    plan = plan_netx(network)
    if not plan.exact:
        raise ConfigError(netx_refusal(plan))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [_write_netx(plan, out_dir / "netx.h5")]


# --------------------------------------------------------------------------------------------
# the plan


def plan_netx(network: Network) -> NetxPlan:
    """Translate ``network`` into netx layers and list everything netx cannot express."""
    chain, reasons = _chain(network)
    if reasons:
        return NetxPlan(reasons=reasons)
    plan = NetxPlan()
    previous = chain[0]
    for pop in chain[1:]:
        ff = _find(network, previous.name, pop.name)
        rec = _find(network, pop.name, pop.name)
        plan.layers.append(_layer(pop, ff, rec, plan.reasons))
        previous = pop
    return plan


def _find(network: Network, source: str, target: str) -> Projection | None:
    return next((p for p in network.projections if p.source == source and p.target == target), None)


def _chain(network: Network) -> tuple[list[Population], list[str]]:
    """The input, then the other populations in network order, if that is a chain netx can hold
    (each fed by the one before, nothing else but self-recurrence); else the reasons why not."""
    inputs = network.inputs
    if len(inputs) != 1:
        return [], [f"topology: netx has one input, the model has {len(inputs)} input populations"]
    chain = [inputs[0], *(p for p in network.populations if p.kind != "input")]
    order = {p.name: i for i, p in enumerate(chain)}
    reasons = []
    for previous, pop in itertools.pairwise(chain):
        if _find(network, previous.name, pop.name) is None:
            reasons.append(
                f"topology: {pop.name} is not fed by {previous.name}, the layer before it"
            )
    for proj in network.projections:
        if not proj.is_recurrent and order[proj.target] != order[proj.source] + 1:
            reasons.append(
                f"topology: projection {proj.name} does not join consecutive layers; netx has no skip "
                "or feedback connections"
            )
    if len(chain) < 2:
        reasons.append("topology: the model has no layer after its input")
    return chain, reasons


def _layer(
    pop: Population, ff: Projection, rec: Projection | None, reasons: list[str]
) -> NetxLayer:
    where = f"layer {pop.name}"
    hw = pop.hw_params
    neuron = {
        "iDecay": int(hw["du"].flat[0]) + 1,
        "vDecay": int(hw["dv"].flat[0]),
        "vThMant": int(hw["vth"].flat[0]),
        "refDelay": 1,
        "gradedSpike": 0,
    }
    for key in ("du", "dv", "vth"):
        if (np.asarray(hw[key]) != np.asarray(hw[key]).flat[0]).any():
            reasons.append(f"{where}: {key} differs between neurons; netx has one per layer")
    bias_eff = np.broadcast_to(
        np.asarray(hw["bias_mant"], np.int64) << np.asarray(hw["bias_exp"], np.int64), (pop.size,)
    )
    bias = bias_eff >> 6
    if (bias << 6 != bias_eff).any():
        reasons.append(
            f"{where}: bias_mant << bias_exp is not a multiple of 64 (netx fixes bias_exp = 6)"
        )
    if np.abs(bias).max(initial=0) > 4095 or bias.min(initial=0) < -4096:
        reasons.append(
            f"{where}: bias {bias.min()}..{bias.max()} needs more than Loihi's 13-bit bias mantissa with bias_exp 6"
        )

    first = len(reasons)
    weight, ff_used = _contribution(ff, f"{where}: weights from {ff.source}", reasons)
    weight_rec = None
    if rec is not None:
        weight_rec, _ = _contribution(rec, f"{where}: recurrent weights", reasons)
    _check_netx_weights(weight, weight_rec, where, reasons)

    delay = _delay(ff, ff_used)
    if rec is not None and (delay is not None or (np.asarray(rec.delays) != 0).any()):
        # first: no choice of integers fixes it
        reasons.insert(
            first,
            f"{where}: a recurrent layer with delays; netx's recurrent layer with delays gives the "
            "recurrent synapse the feed-forward delay matrix and no weight_exp",
        )
    return NetxLayer(
        type="dense_rec" if rec is not None else "dense",
        size=pop.size,
        in_features=int(ff.weights.shape[1]),
        weight=weight,
        bias=np.ascontiguousarray(bias),
        neuron=neuron,
        weight_rec=weight_rec,
        delay=delay,
    )


def _contribution(
    proj: Projection, where: str, reasons: list[str]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Per-synapse contribution to ``a_in`` (what the netx file holds) and the used-synapse mask."""
    used = effective_weights(
        proj.weights,
        int(proj.hw_params["num_weight_bits"]),
        int(proj.hw_params.get("sign_mode", 0)),
    )
    weight_exp = int(proj.hw_params["weight_exp"])
    if weight_exp >= 0:
        return used << weight_exp, used != 0
    k = -weight_exp
    remainder = used & ((1 << k) - 1)
    if (remainder.sum(axis=1) >= (1 << k)).any():
        reasons.append(
            f"{where}: weight_exp {weight_exp} floors the sum of each step's weights, which no "
            "per-synapse integer weight reproduces"
        )
    return used >> k, used != 0


def _check_netx_weights(
    weight: NDArray[np.int64], weight_rec: NDArray[np.int64] | None, where: str, reasons: list[str]
) -> None:
    """Replay netx's optimize_weight_bits and Lava's preprocessing; report any change."""
    joint = weight if weight_rec is None else np.hstack([weight, weight_rec])
    lo, hi = int(joint.min(initial=0)), int(joint.max(initial=0))
    if lo == hi == 0:
        reasons.append(
            f"{where}: all weights are zero; netx's optimize_weight_bits cannot scale them"
        )
        return
    if (hi > 254 and lo < 0) or (lo < -256 and hi > 0) or hi > 255 or lo < -256:
        reasons.append(
            f"{where}: weights {lo}..{hi} exceed what netx fits in a synapse ([-256, 254] mixed, <= 255, >= -256)"
        )
        return
    if hi < 0:
        mode, signed, scale = INHIBITORY, 0, -256 / lo
    elif lo >= 0:
        mode, signed, scale = EXCITATORY, 0, 255 / hi
    else:
        mode, signed, scale = MIXED, 1, min(127 / hi if hi > 0 else np.inf, -128 / lo)
    scale_bits = int(np.floor(np.log2(scale))) + signed
    n = 8
    while n > 0 and ((joint % (1 << n)) != 0).any():
        n -= 1
    num_weight_bits = 8 - scale_bits - (n - signed)
    if num_weight_bits > 8:
        reasons.append(
            f"{where}: netx would set num_weight_bits={num_weight_bits}; Lava's simulator accepts it "
            "but Loihi 2 synapses hold at most 8 bits"
        )
    for part, name in ((weight, "weight"), (weight_rec, "weight_rec")):
        if part is None:
            continue
        scaled = part << scale_bits
        lava = effective_weights(scaled, num_weight_bits)
        if (lava != scaled).any():
            i, j = np.argwhere(lava != scaled)[0]
            reasons.append(
                f"{where}: netx re-derives num_weight_bits={num_weight_bits}, weight_exp={-scale_bits} "
                f"(sign mode {mode}) and Lava then changes {name}[{i}, {j}] from {part[i, j]}"
            )


def _delay(proj: Projection, used: NDArray[np.bool_]) -> NDArray[np.int64] | None:
    """netx ``delay`` dataset (per output, or the 2-D matrix) or None when all zero."""
    delays = np.asarray(proj.delays, dtype=np.int64)
    active = np.where(used, delays, 0)
    if not active.any():
        return None

    def constant_along(axis: int) -> NDArray[np.int64] | None:
        # one delay per row (axis=1) or per column (axis=0) over used synapses; None if not
        top = np.where(used, delays, -1).max(axis=axis)
        low = np.where(used, delays, _NETX_MAX_DELAY + 1).min(axis=axis)
        has = used.any(axis=axis)
        if (top[has] != low[has]).any():
            return None
        return np.where(has, top, 0)

    per_output = constant_along(1)
    if per_output is not None:
        return per_output
    return active


# --------------------------------------------------------------------------------------------
# files


def _write_netx(plan: NetxPlan, path: Path) -> Path:
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["neurodeploy_exact"] = plan.exact  # always true: only exact plans are written
        f.attrs["neurodeploy_not_expressible"] = json.dumps(plan.reasons)
        for i, layer in enumerate(plan.layers):
            g = f.create_group(f"layer/{i}")
            g.create_dataset("type", (1,), "S10", [layer.type.encode("ascii")])
            g.create_dataset("shape", data=np.array([layer.size], dtype=np.int64))
            g.create_dataset("inFeatures", data=np.int64(layer.in_features))
            g.create_dataset("outFeatures", data=np.int64(layer.size))
            g.create_dataset("weight", data=layer.weight.astype(np.int32))
            if layer.weight_rec is not None:
                g.create_dataset("weight_rec", data=layer.weight_rec.astype(np.int32))
            g.create_dataset("bias", data=layer.bias.astype(np.int32))
            if layer.delay is not None:
                g.create_dataset("delay", data=layer.delay.astype(np.int64))
            n = g.create_group("neuron")
            n.create_dataset("type", (1,), "S10", [b"CUBA"])
            for key, value in layer.neuron.items():
                n.create_dataset(key, data=np.int64(value))
    return path


def _lava_construct(proj: Projection) -> str:
    return "DelayDense" if (np.asarray(proj.delays) != 0).any() else "Dense"


def _manifest(network: Network, plan: NetxPlan, files: list[str]) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        lava_version = version("lava-nc")
    except PackageNotFoundError:
        lava_version = None
    try:
        nd_version = version("neurodeploy")
    except PackageNotFoundError:
        nd_version = None
    return {
        "format": MANIFEST_FORMAT,
        "format_version": MANIFEST_VERSION,
        "profile": network.profile,
        "neurodeploy_version": nd_version,
        "lava_nc_version": lava_version,
        "files": files,
        "run_config": "Loihi2SimCfg(select_tag='fixed_pt') or Loihi2HwCfg",
        "populations": [
            {
                "name": p.name,
                "size": p.size,
                "kind": p.kind,
                "lava": "RingBuffer" if p.kind == "input" else "LIF",
            }
            for p in network.populations
        ],
        "projections": [
            {
                "source": p.source,
                "target": p.target,
                "lava": _lava_construct(p),
                "max_delay": int(np.asarray(p.delays).max(initial=0)),
                "synapses": int(np.count_nonzero(p.weights)),
                **{k: int(v) for k, v in p.hw_params.items()},
            }
            for p in network.projections
        ],
        "netx": {
            "file": "netx.h5" if plan.exact else None,
            "exact": plan.exact,
            "not_expressible": plan.reasons,
        },
    }
