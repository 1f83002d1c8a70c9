"""The workflow graph and its Python API."""

from .model import Graph as Graph
from .model import Node as Node
from .model import OutputRef as OutputRef
