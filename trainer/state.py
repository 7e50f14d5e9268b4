"""A run's network and trainable state: structure, weights, float delays and their ranges.

:meth:`Trainer.initial` draws the initial network of a config (seeded by ``train.seed``);
:meth:`Trainer.from_network` continues from a trained float network (fine-tuning);
:meth:`Trainer.network` is the current float network.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from neurodeploy.network import Network, Population, Projection, decay_from_tau
from neurodeploy.trainer.config import Config

__all__ = ["Trainer"]


def _decay(tau_ms: float, dt_ms: float, resolution: int) -> float:
    """``exp(-dt/tau)``, rounded to a multiple of ``1/resolution`` when ``resolution`` > 0."""
    decay = decay_from_tau(tau_ms, dt_ms)
    return round(decay * resolution) / resolution if resolution else decay


def _unit(dt_ms: float, tau_mem_ms: float, tau_syn_ms: float) -> float:
    """The float weight of one threshold-normalised unit onto a population with these taus."""
    dm, ds = decay_from_tau(tau_mem_ms, dt_ms), decay_from_tau(tau_syn_ms, dt_ms)
    return (1.0 - dm) * (1.0 - ds) * tau_syn_ms / dt_ms


@dataclass
class Trainer:
    """Network structure plus trainable parameters (weights, float delays).

    The optimiser state (Adam) lives beside it in the epoch loop and in checkpoints.
    """

    config: Config
    template: Network
    weights: list[NDArray[np.float64]]
    delays: list[NDArray[np.float64]]
    max_delays: list[int]
    units: list[float]  # weight unit of each projection (its target's)
    ff_mask: list[bool]

    @classmethod
    def initial(cls, config: Config, n_in: int, n_out: int) -> Trainer:
        m = config.model
        dt = config.data.dt_ms
        rng = np.random.default_rng(config.train.seed)
        tm_out = m.out_tau_mem_ms or m.tau_mem_ms
        ts_out = m.out_tau_syn_ms or m.tau_syn_ms
        pops = [Population(name="input", size=n_in, kind="input")]
        for k, size in enumerate(m.hidden):
            pops.append(
                Population(
                    name=f"hidden{k}" if len(m.hidden) > 1 else "hidden",
                    size=size,
                    kind="lif",
                    decay_mem=_decay(m.tau_mem_ms, dt, m.decay_resolution),
                    decay_syn=_decay(m.tau_syn_ms, dt, m.decay_resolution),
                    threshold=m.threshold,
                )
            )
        pops.append(
            Population(
                name="output",
                size=n_out,
                kind=m.output,
                decay_mem=_decay(tm_out, dt, m.decay_resolution),
                decay_syn=_decay(ts_out, dt, m.decay_resolution),
                threshold=m.threshold,
            )
        )
        hid_unit = _unit(dt, m.tau_mem_ms, m.tau_syn_ms)
        out_unit = _unit(dt, tm_out, ts_out)
        projs, units, maxd, ff = [], [], [], []
        weights, delays = [], []

        def add(src, tgt, init, unit, dmax, dinit, is_ff):
            n_post, n_pre = tgt.size, src.size
            w = rng.normal(init[0], init[1], (n_post, n_pre)) * unit
            lo, hi = min(dinit[0], dmax), min(dinit[1], dmax)
            d = (
                rng.uniform(lo, hi, (n_post, n_pre))
                if hi > lo
                else np.full((n_post, n_pre), float(lo))
            )
            projs.append(Projection(source=src.name, target=tgt.name, weights=w, delays=d))
            weights.append(w)
            delays.append(d)
            units.append(unit)
            maxd.append(int(dmax))
            ff.append(is_ff)

        for k in range(len(m.hidden)):
            src, tgt = pops[k], pops[k + 1]
            add(
                src,
                tgt,
                m.input_init if k == 0 else m.hidden_init,
                hid_unit,
                m.max_delay_steps,
                m.delay_init_steps,
                True,
            )
            if m.recurrent:
                add(
                    tgt,
                    tgt,
                    m.recurrent_init,
                    hid_unit,
                    m.recurrent_max_delay_steps,
                    m.recurrent_delay_init_steps,
                    False,
                )
        add(
            pops[-2], pops[-1], m.output_init, out_unit, m.max_delay_steps, m.delay_init_steps, True
        )
        template = Network(
            dt_ms=dt,
            populations=tuple(pops),
            projections=tuple(projs),
            readout=config.loss.readout,
        )
        return cls(config, template, weights, delays, maxd, units, ff)

    @classmethod
    def from_network(
        cls, config: Config, network: Network, *, delay_limit: int | None = None
    ) -> Trainer:
        """Continue from a trained float ``network`` (fine-tuning). Delays are capped at
        ``delay_limit`` steps when given (a target's delay range)."""
        dt = network.dt_ms
        weights, delays, maxd, units, ff = [], [], [], [], []
        for proj in network.projections:
            tgt = network.population(proj.target)
            tau_m = (
                -dt / np.log(tgt.decay_mem) if 0 < tgt.decay_mem < 1 else config.model.tau_mem_ms
            )
            tau_s = (
                -dt / np.log(tgt.decay_syn) if 0 < tgt.decay_syn < 1 else config.model.tau_syn_ms
            )
            limit = (
                config.model.recurrent_max_delay_steps
                if proj.is_recurrent
                else config.model.max_delay_steps
            )
            limit = max(limit, int(np.ceil(proj.delays.max(initial=0.0))))
            if delay_limit is not None:
                limit = min(limit, delay_limit)
            weights.append(np.array(proj.weights, dtype=np.float64))
            delays.append(np.clip(np.array(proj.delays, dtype=np.float64), 0.0, limit))
            maxd.append(int(limit))
            units.append(_unit(dt, tau_m, tau_s))
            ff.append(not proj.is_recurrent)
        template = Network(
            dt_ms=dt,
            populations=network.populations,
            projections=network.projections,
            readout=config.loss.readout,
            output=network.output,
        )
        return cls(config, template, weights, delays, maxd, units, ff)

    def network(self, metadata: dict[str, Any] | None = None) -> Network:
        """The current float network (delays clamped to each projection's range)."""
        projs = tuple(
            Projection(
                source=p.source, target=p.target, weights=w.copy(), delays=np.clip(d, 0.0, m)
            )
            for p, w, d, m in zip(
                self.template.projections, self.weights, self.delays, self.max_delays, strict=True
            )
        )
        return replace(self.template, projections=projs, metadata=metadata or {})
