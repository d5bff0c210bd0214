"""Admission writes, one public call one unit of work of the caller's with its audit rows: requests
(make, cancel), beds (offers and their answers, admission, a bed's own moves), stays (transfer,
discharge), wards (the queue's settings). `moves` holds the conditional UPDATEs they are made of."""
