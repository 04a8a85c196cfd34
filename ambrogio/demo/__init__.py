"""Demo data: the Lecco welfare network (``load_demo``) and synthetic volume (``load_scale``)."""

from ambrogio.demo.load import load_demo
from ambrogio.demo.scale import load_scale

__all__ = ["load_demo", "load_scale"]
