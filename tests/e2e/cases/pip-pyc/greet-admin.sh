#!/bin/sh
exec greet "$@"
