"""The demo JupyterHub (``make hub``, docs/hub.md): one course, its formgrader as a hub service, a shared exchange, and
a student environment without the grader. ``layout`` names every path, user and port; ``envs`` builds the two venvs;
``provision`` creates users, directories and configs; ``run`` starts and stops the hub; ``jupyterhub_config.py`` is
the file JupyterHub loads."""
