"""The numbers: reports and monthly statistics of every domain (the clinic office's weekly report
and chart, the admission waits by month, the referrals by month); the consortium dashboard next."""
