"""Admission reads, each returning what every door renders: requests as they read (requests), a
ward's queue in order with its words (queue), wards (wards), the bed board (beds), the 社区签约 tag a
new request gets (tags), an admission as the down-referral after it needs it (discharges). A read
of a resident's request is checked by auth.policy and audited here."""
