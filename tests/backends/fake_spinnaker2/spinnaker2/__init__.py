"""A recording stand-in for py-spinnaker2 (``from spinnaker2 import snn, hardware``) for tests.

It accepts exactly the calls hardware.md (Part B) documents, with their argument names, checks
their values the way the chip's limits require (4-bit weights, 3-bit delays, ``lif_curr_exp``
parameters, ``spike_list`` ticks), and its ``SpiNNaker2Chip.run`` "runs" the network by rebuilding
a neurodeploy hardware model from the ``snn`` objects alone and emulating it. Every call is
appended to ``CALLS`` and, if ``FAKE_SPINNAKER2_LOG`` names a file, to that file as JSON lines.

``FAKE_SPINNAKER2_CORRUPT=1`` flips one spike (neuron 0 of the first recorded population at the
last tick of the first run), to prove that a comparison notices.
"""

from spinnaker2 import hardware, snn

__version__ = "0.0-fake"
__all__ = ["hardware", "snn"]
