"""Running the application: health checks, backups and housekeeping jobs."""
