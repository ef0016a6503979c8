#version 330
// Final pass: a full-screen quad reading the linear HDR picture of both render passes.
in vec4 p3d_Vertex;
out vec2 v_uv;

void main() {
    vec2 ndc = p3d_Vertex.xz;
    gl_Position = vec4(ndc, 0.0, 1.0);
    v_uv = ndc * 0.5 + 0.5;
}
