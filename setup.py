"""Installable with ``pip install -e .``; console script ``pywps``."""

from setuptools import find_namespace_packages, setup

setup(
    name="pywps",
    version="5.0.0.dev0",
    description="OGC Web Processing Service with per-job process isolation (multiprocessing, batch, Docker)",
    long_description=open("README.md", encoding="utf-8").read() if __import__("os").path.exists("README.md")
    else "",
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.10",
    packages=find_namespace_packages(include=["pywps", "pywps.*"]),
    include_package_data=True,
    package_data={"pywps": ["schemas/**/*", "schemas/*", "processes/*.json", "templates/*", "templates/**/*"]},
    install_requires=[
        "flask>=2.2",
        "werkzeug>=2.2",
        "lxml>=4.9",
        "sqlalchemy>=2.0",
        "requests>=2.28",
        "jsonschema>=4.18",  # OGC API - Processes: execute inputs validated against the process schemas
    ],
    extras_require={
        "postgresql": ["psycopg[binary]>=3.1"],
        "docker": ["docker>=6.1", "owslib>=0.29"],
        "drmaa": ["drmaa>=0.7.9"],
        "server": ["gunicorn>=21"],
        "dev": ["pytest>=7", "owslib>=0.29", "birdhouse-birdy>=0.10", "gunicorn>=21", "psycopg[binary]>=3.1",
                "docker>=6.1", "drmaa>=0.7.9",
                "ruff", "hypothesis>=6", "import-linter>=2",
                "referencing>=0.30", "pyyaml>=6", "selenium>=4.15"],
    },
    entry_points={"console_scripts": ["pywps = pywps.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: GIS",
    ],
)
