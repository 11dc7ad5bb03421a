"""Microsoft Teams: botbuilder; text commands and Adaptive Card submits funnel into handlers."""
