#version 330
// The Earth: a WGS-84 ellipsoid mesh whose object space is Earth-fixed (ECEF) metres; the node's
// transform (ecef_to_eci rotation, camera-relative translation) comes from the render boundary.
uniform mat4 p3d_ModelViewProjectionMatrix;
in vec4 p3d_Vertex;
in vec2 p3d_MultiTexCoord0;
out vec2 v_uv;
out vec3 v_ecef_m;

void main() {
    gl_Position = p3d_ModelViewProjectionMatrix * p3d_Vertex;
    v_uv = p3d_MultiTexCoord0;
    v_ecef_m = p3d_Vertex.xyz;
}
