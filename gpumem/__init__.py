"""gpumem: how much GPU memory a model needs, from one symbolic model.

>>> import gpumem
>>> e = gpumem.estimate("llama-2-7b", mode="inference", dtype="fp16", seq=4096)
>>> e.components["weights"]
13476831232
"""

from .errors import ConfigError, GpumemError, InvalidValueError, ParallelismError, UnknownNameError
from .estimate import Estimate, estimate, rule_of_thumb
from .modelspec import ModelSpec
from .workload import Workload

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "Estimate",
    "GpumemError",
    "InvalidValueError",
    "ModelSpec",
    "ParallelismError",
    "UnknownNameError",
    "Workload",
    "estimate",
    "rule_of_thumb",
]
