-- P2: the schedule's maintained counter agrees with the seeded runs.
UPDATE schedules SET total_runs = $2, successful_runs = $2 WHERE id = $1
