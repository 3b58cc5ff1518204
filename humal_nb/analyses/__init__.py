"""The analyses beyond one run: comparing a HuMAL run with its baseline (faithfulness,
rollout, other layers), the replication and control verdicts, and when rationales are worth paying for."""
