"""群运 qunyun: run many chat groups across platforms as one community."""

__version__ = "0.1.0"
