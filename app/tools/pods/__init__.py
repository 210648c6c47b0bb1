"""Pod tools: list, get, delete, run, top (``pods``) and what reaches into containers: logs and exec
(``containers``).
"""
