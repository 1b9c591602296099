"""ofa-manager: get and keep the OFA backbones and π-Tuning checkpoints."""

__version__ = "0.1.0"
APP_NAME = "ofa-manager"
APP_ID = "io.github.ofa_manager.OfaManager"
