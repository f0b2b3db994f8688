from intake_service.cli import app

app()
