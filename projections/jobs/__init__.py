"""Jobs: ``jobs_log``, ``job_items`` and the worker queue ``job_dispatch`` (one projection
writes all three), their queries, the queue's leases, what the deadlines find due, and the
credits saga that settles an ended job.
"""
