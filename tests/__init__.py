"""Tests for ofa-manager, and the loopback server they run against."""
