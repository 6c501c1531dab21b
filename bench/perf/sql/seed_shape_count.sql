-- P2 baseline, the seed's shape: the total is a COUNT(*) over the history view.
SELECT count(*) FROM v_schedule_execution_history WHERE schedule_id = $1
