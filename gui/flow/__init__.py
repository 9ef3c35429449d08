"""The flow view: tasks as tokens moving producer → queue → consumer → done, from the model."""

from gui.flow.view import FlowView

__all__ = ["FlowView"]
