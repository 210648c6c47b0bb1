"""Node tools: usage, kubelet logs and stats (``nodes``), and the metrics-API reading shared with ``pods_top``
(``usage``).
"""
