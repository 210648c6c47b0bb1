"""Helm tools (toolset ``helm``): release handlers (``releases``), their arguments (``args``) and rendering
(``views``).
"""
