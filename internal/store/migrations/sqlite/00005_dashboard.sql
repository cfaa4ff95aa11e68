-- +goose Up
-- On every request the dashboard counts, for each client of the practice,
-- the open steps by due date and the steps done in the last days. These
-- partial indexes hold every column those counts read, in client order,
-- and only the steps each count reads: the counts read them alone, without
-- visiting the table or sorting. The queries name the status as a literal,
-- which the planner needs to use a partial index.
CREATE INDEX action_steps_open_due_idx ON action_steps (practice_id, client_id, due_date) WHERE status = 'open';
CREATE INDEX action_steps_done_at_idx ON action_steps (practice_id, client_id, completed_at) WHERE status = 'done';

-- A goal's progress counts its open and its done steps (goals.progressColumns,
-- for every goal shown). Without this index SQLite, which has no statistics,
-- reads them through the partial indexes above: every open step of the
-- practice, for each goal.
CREATE INDEX action_steps_goal_status_idx ON action_steps (goal_id, status);

-- +goose Down
DROP INDEX action_steps_goal_status_idx;
DROP INDEX action_steps_done_at_idx;
DROP INDEX action_steps_open_due_idx;
