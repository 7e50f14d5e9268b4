"""Lava processes of the Lava backend, alone in their own package.

Lava's compiler looks for a process's models by importing and re-executing *every* module in the
directory of the process's module (``ProcGroupDiGraphs._find_proc_models``). Keeping the processes
here means it only ever re-executes these files, not the rest of :mod:`neurodeploy.backends`.
"""
