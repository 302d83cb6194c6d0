"""The soft-prompt stage on the orchestrator side: one room for the graph, the CLI and the report.

* :mod:`~orchestrator.soft.data`: task splits of the stage (handed in through the context) and their
  conversion to ``soft_prompts`` data.
* :mod:`~orchestrator.soft.twin`: the local model the stage tunes (looked up and loaded once).
* :mod:`~orchestrator.soft.training`: :func:`train_task_prompt` and :func:`train_fusion`, the one training
  path that the graph and ``promptfusion soft train`` both call.
* :mod:`~orchestrator.soft.standalone`: :func:`train_on_task`, one task outside a campaign (what
  ``promptfusion soft train`` calls): splits, twin, :func:`train_task_prompt`, test split, PEFT export.
* :mod:`~orchestrator.soft.results`: the typed results the stage produces and the report reads.
* :mod:`~orchestrator.soft.measure`: :func:`held_out_row`, a stored prompt on the test split (the
  final comparison and ``promptfusion soft train`` both measure here).
* :mod:`~orchestrator.soft.nodes` / :mod:`~orchestrator.soft.final`: the graph nodes (they read and
  write :mod:`orchestrator.graph_state`; ``orchestrator.graph`` wires them after the search's nodes).

torch lives in ``soft_prompts``; modules here import it lazily, and nothing in ``soft_prompts`` imports
this package.
"""
