"""Slack: slack-bolt AsyncApp; every slash command, button and modal funnels into handlers."""
