#!/bin/bash
# The schedule that produced benchmarks/results/instruction_screen/*.jsonl (2026-12-07, 2-core CPU,
# shared/loaded). Each call resumes: it scores only the (example, variant) pairs not yet in the files.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
S="python benchmarks/instruction_screen.py --evals-dir /tmp/evals/evals/registry/data --out benchmarks/results/instruction_screen"
SYS=bare,labels@system,description@system,definitions@system
CAND=multiemo_en_polarity,evals_naughty_strings
CHEAP=navigate,evals_food,sports_understanding,evals_sarcasm_headlines,strategyqa,evals_born_first,evals_rectangles,analytic_entailment,evals_which_is_heavier,irony_identification
LONG=evals_aba_mrpc_true_false,snarks,epistemic_reasoning,vitaminc_true_false,vitaminc_fact_verification,presuppositions_as_nli,presuppositions_entail_contradict,multiemo_en,formal_fallacies,causal_judgment
# stage 1, breadth (stopped after navigate, 16 of 24): 24 examples, system-turn instructions only
$S --tasks evals_food,evals_naughty_strings,sports_understanding,multiemo_en_polarity,evals_sarcasm_headlines,strategyqa,evals_born_first,evals_rectangles,analytic_entailment,evals_which_is_heavier,irony_identification,navigate --rounds 24 --variants $SYS
# stage 2, depth: the two candidates under all 7 variants
$S --tasks $CAND --rounds 48,72
# the cheap tasks under all 7 variants
$S --tasks $CHEAP --rounds 24
# the long tasks, system-turn instructions only (the CPU did not allow more)
$S --tasks $LONG --rounds 24 --variants $SYS
# depth for the nearest cheap miss
$S --tasks evals_which_is_heavier --rounds 48,72
