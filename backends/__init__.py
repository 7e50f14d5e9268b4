"""Toolchain backends: what each target's own toolchain loads and runs.

- ``lava`` (:class:`~neurodeploy.backends.lava.LavaBackend`): Lava's fixed-point CPU simulator
  (``Loihi2SimCfg``), netx/Lava exports (:mod:`neurodeploy.backends.lava_export`);
  ``lava-loihi2``: a Loihi 2 chip through ``Loihi2HwCfg`` (needs Intel's closed lava-loihi).
- ``spinnaker2`` (:class:`~neurodeploy.backends.spinnaker2.SpiNNaker2Backend`): the deploy
  bundle, board runs through py-spinnaker2 and the board-vs-emulator comparison.

They implement :class:`neurodeploy.backend.Backend` and are registered through the
``neurodeploy.backends`` entry point group (pyproject.toml); look them up with
:func:`neurodeploy.backend.get_backend`. Importing this package imports no toolchain.
"""
