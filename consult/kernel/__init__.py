"""What every app may use: domain errors, text validators, upload checks."""
