"""Referral writes, by sub-topic: create (a referral, or an up-referral from a follow-up task),
moves (the transition table's compare-and-swap), targets (where a referral may go), followup
(tasks), attachments, discharges (a down-referral that continues one). Each public call is one
unit of work's worth of rows and audit rows; the caller commits."""
