"""The dual-stage search and the soft-prompt stage as one LangGraph ``StateGraph``.

    START -> init -> score -> evaluate -> select --(loop)--> propose -> filter -> score
             init -> score_and_propose -> evaluate -> select --(round 1 written)--> filter -> score
                                          select --(promote)--> promote -> score (target stage)
                                          select --(finish)--> final_dev -> final_test -> handoff
    handoff --(soft stage on)--> soft_sources -> soft_target -> soft_fusion -> final_eval -> END
    handoff --(no local twin / disabled)--> END

The checkpointer is injected by the caller (``compile(checkpointer=...)``); runs use
``durability="sync"`` so a hard kill never loses the previous node's checkpoint.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from orchestrator.search import nodes
from orchestrator.search.context import SearchContext
from orchestrator.search.graph import route_after_filter, route_after_init, route_after_select
from orchestrator.search.state import SearchState
from orchestrator.soft import final as soft_final
from orchestrator.soft import nodes as soft_nodes

__all__ = ["build_graph"]


def build_graph() -> StateGraph:
    """The uncompiled graph; compile it with the checkpointer of your choice."""
    graph = StateGraph(SearchState, context_schema=SearchContext)
    graph.add_node("init", nodes.init)
    graph.add_node("propose", nodes.propose)
    graph.add_node("filter", nodes.filter_node)
    graph.add_node("score", nodes.score)
    graph.add_node("score_and_propose", nodes.score_and_propose)
    graph.add_node("evaluate", nodes.evaluate)
    graph.add_node("select", nodes.select)
    graph.add_node("promote", nodes.promote)
    graph.add_node("final_dev", nodes.final_dev)
    graph.add_node("final_test", nodes.final_test)
    graph.add_node("handoff", soft_nodes.handoff)
    graph.add_node("soft_sources", soft_nodes.soft_sources)
    graph.add_node("soft_target", soft_nodes.soft_target)
    graph.add_node("soft_fusion", soft_nodes.soft_fusion)
    graph.add_node("final_eval", soft_final.final_eval)
    graph.add_edge(START, "init")
    graph.add_conditional_edges("init", route_after_init)
    graph.add_edge("score_and_propose", "evaluate")
    graph.add_edge("propose", "filter")
    graph.add_conditional_edges("filter", route_after_filter)
    graph.add_edge("score", "evaluate")
    graph.add_edge("evaluate", "select")
    graph.add_conditional_edges("select", route_after_select)
    graph.add_edge("promote", "score")
    graph.add_edge("final_dev", "final_test")
    graph.add_edge("final_test", "handoff")
    graph.add_conditional_edges("handoff", soft_nodes.route_after_handoff)
    graph.add_edge("soft_sources", "soft_target")
    graph.add_edge("soft_target", "soft_fusion")
    graph.add_edge("soft_fusion", "final_eval")
    graph.add_edge("final_eval", END)
    return graph
