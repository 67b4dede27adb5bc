"""All that a job's process imports: the job API and the runner."""
