"""Loopback stand-ins for the services we talk to (Rasa, later Twilio and Telegram)."""
