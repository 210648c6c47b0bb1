"""MCP prompts: named workflows (``catalog``) that hand the model a plan over this server's tools (``plans``,
``playbooks``, ``troubleshoot``).
"""
