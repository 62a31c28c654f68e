"""Monitoring deployed models: request statistics per time bucket, labels, drift and alerts."""
