#!/bin/sh
echo "tool ok"
