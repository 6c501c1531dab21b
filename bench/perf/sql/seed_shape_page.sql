-- P2 baseline, the seed's shape: a page is an OFFSET ordered by trigger time.
SELECT * FROM v_schedule_execution_history WHERE schedule_id = $1
ORDER BY triggered_at DESC, id DESC LIMIT $2 OFFSET $3
