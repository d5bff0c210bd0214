"""The reads behind the numbers, one module a domain they count: clinics, admissions, referrals."""
