"""Seconds LibreOffice's own recalculation (calculateAll) takes on a workbook, its load apart: run by a Python with uno.

    /usr/bin/python3 bench/lo_recalc.py BOOK.xlsx [--repeat 2]

`verify` times LibreOffice's whole run (start, load, recalculate, save); this isolates the recalculation, driving a
headless soffice through its API (python3-uno) with a throwaway profile, macros never run.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    import uno
    from com.sun.star.beans import PropertyValue

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book", type=Path)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as profile:
        office = subprocess.Popen(
            ["soffice", f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--invisible", "--norestore",
             f"--accept=socket,host=127.0.0.1,port={port};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            local = uno.getComponentContext()
            resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
            for _ in range(120):
                try:
                    context = resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
                    break
                except Exception:  # noqa: BLE001 - soffice is still starting
                    time.sleep(0.5)
            else:
                raise SystemExit("soffice did not start")
            desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
            hidden = PropertyValue()
            hidden.Name, hidden.Value = "Hidden", True
            started = time.perf_counter()
            document = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(args.book)), "_blank", 0, (hidden,))
            load = time.perf_counter() - started
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                document.calculateAll()
                times.append(time.perf_counter() - started)
            document.close(True)
            print(f"LibreOffice: load {load:.2f} s; recalculation (calculateAll) {', '.join(f'{t:.2f}' for t in times)} s")
        finally:
            office.terminate()
            office.wait(timeout=30)


if __name__ == "__main__":
    main()
