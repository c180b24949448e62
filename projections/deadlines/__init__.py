"""Deadlines (the Durable Object alarm replacement): a loop that fires the jobs' and the upload
sessions' deadlines through commands. It follows no log, so it is not a reactor: it polls the
jobs and upload sessions read models.
"""
