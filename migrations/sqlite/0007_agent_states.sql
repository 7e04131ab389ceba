-- Every change of a seat's state, with its time (occupancy and idle time are computed from it).
CREATE TABLE agent_states (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    agent TEXT NOT NULL,
    platform TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX agent_states_by_agent ON agent_states (agent, id);
