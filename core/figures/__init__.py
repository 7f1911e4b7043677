"""Figures (plotly) and images, by concept: compute in core, draw here. The bottom layer beside
core.limits: imports nothing else of core, so any layer may draw. Import the modules themselves
(no re-exports: plotly is loaded only by the pages that draw).
"""
