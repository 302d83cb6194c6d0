"""The dual-stage discrete prompt search, as a LangGraph state machine."""
