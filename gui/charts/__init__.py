"""Live charts of a run: ChartsPanel, four x-linked pyqtgraph plots fed from a RunModel."""

from gui.charts.panel import ChartsPanel

__all__ = ["ChartsPanel"]
